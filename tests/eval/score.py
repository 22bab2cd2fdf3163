"""Scoring a brief against the hand-made gold data in ``gold.toml``.

Pure functions: nothing here reads anything but the gold file, and nothing imports the engine.
The caller turns the engine's output into plain Python values (statements, predicted quotes,
predicted dates, story groups) and passes them in. See docs/quality.md.

Text comparison (``normalise``): case-insensitive, curly quotes and apostrophes read as
straight ones, runs of white space read as one space.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import combinations
from pathlib import Path
from typing import Any

GOLD_PATH = Path(__file__).with_name("gold.toml")

_QUOTE_TRANSLATION = str.maketrans(
    {"‘": "'", "’": "'", "‚": "'", "′": "'", "“": '"', "”": '"', "„": '"', "″": '"'}
)
KINDS = ("anonymous", "group", "organisation")


def normalise(text: str) -> str:
    """Lower case, straight quotes, single spaces: the form every comparison uses."""
    return " ".join(text.translate(_QUOTE_TRANSLATION).casefold().split())


# -- gold data ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    id: str
    text: str
    weight: int
    match: tuple[tuple[str, ...], ...]

    def covered_by(self, statement: str) -> bool:
        """True when every substring of at least one alternative occurs in ``statement``."""
        s = normalise(statement)
        return any(all(normalise(part) in s for part in alt) for alt in self.match)


@dataclass(frozen=True)
class Story:
    id: str
    title: str
    documents: tuple[str, ...]


@dataclass(frozen=True)
class GoldQuote:
    document: str
    contains: str
    speaker: str
    key: tuple[str, ...] = ()


@dataclass(frozen=True)
class GoldDate:
    document: str
    contains: str
    expression: str
    value: date
    precision: str
    note: str = ""


@dataclass(frozen=True)
class Gold:
    facts: tuple[Fact, ...]
    stories: tuple[Story, ...]
    quotes: tuple[GoldQuote, ...]
    dates: tuple[GoldDate, ...]
    sentence_count: Mapping[str, int] = field(default_factory=dict)
    sentence_total: int = 0
    published: Mapping[str, date] = field(default_factory=dict)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def load_gold(path: Path | str | None = None) -> Gold:
    """Read ``gold.toml`` (this folder's unless ``path`` says otherwise)."""
    with Path(path or GOLD_PATH).open("rb") as fh:
        raw = tomllib.load(fh)
    counts = raw.get("sentence_count", {})
    return Gold(
        facts=tuple(
            Fact(f["id"], f["text"], int(f.get("weight", 1)), tuple(tuple(a) for a in f["match"]))
            for f in raw.get("fact", [])
        ),
        stories=tuple(
            Story(s["id"], s.get("title", ""), tuple(s["documents"])) for s in raw.get("story", [])
        ),
        quotes=tuple(
            GoldQuote(q["document"], q["contains"], q["speaker"], tuple(q.get("key", ())))
            for q in raw.get("quote", [])
        ),
        dates=tuple(
            GoldDate(
                d["document"],
                d["contains"],
                d["expression"],
                _as_date(d["value"]),
                d["precision"],
                d.get("note", ""),
            )
            for d in raw.get("date", [])
        ),
        sentence_count=dict(counts.get("documents", {})),
        sentence_total=int(counts.get("total", 0)),
        published={k: _as_date(v) for k, v in raw.get("published", {}).items()},
    )


# -- key facts ------------------------------------------------------------------------------


def fact_coverage(statements: Sequence[str], gold: Gold) -> tuple[float, list[str], list[str]]:
    """Weighted share of the gold facts that at least one statement covers.

    Returns (score in 0..1, ids of covered facts, ids of missing facts), both lists in gold
    order. A fact is covered by a statement when all substrings of one of its ``match``
    alternatives occur in that one statement (see ``Fact.covered_by``).
    """
    covered: list[str] = []
    missing: list[str] = []
    got = total = 0
    for fact in gold.facts:
        total += fact.weight
        if any(fact.covered_by(s) for s in statements):
            covered.append(fact.id)
            got += fact.weight
        else:
            missing.append(fact.id)
    return (got / total if total else 0.0), covered, missing


KEY_WEIGHT = 2


def key_fact_coverage(statements: Sequence[str], gold: Gold) -> tuple[float, list[str], list[str]]:
    """Coverage of the key facts only: those the gold marks as ones a brief of this corpus
    cannot leave out (weight 2). The acceptance target of the analysis issue applies here;
    ``fact_coverage`` over every fact, details included, is reported beside it."""
    key = Gold(
        facts=tuple(f for f in gold.facts if f.weight >= KEY_WEIGHT),
        stories=gold.stories,
        quotes=gold.quotes,
        dates=gold.dates,
    )
    return fact_coverage(statements, key)


def oracle_fact_coverage(sentences: Sequence[str], gold: Gold, budget: int) -> float:
    """An upper bound estimate for ``fact_coverage`` with ``budget`` statements: the best
    greedy choice among all corpus sentences, knowing the gold (no system can know it)."""
    chosen: list[str] = []
    for _ in range(budget):
        base = fact_coverage(chosen, gold)[0]
        best = max(sentences, key=lambda s: fact_coverage([*chosen, s], gold)[0] - base)
        if fact_coverage([*chosen, best], gold)[0] <= base:
            break
        chosen.append(best)
    return fact_coverage(chosen, gold)[0]


def brief_statements(brief_json: Mapping[str, Any]) -> list[str]:
    """The statements of a brief: its BLUF items, then every section's items."""
    items = list(brief_json.get("bluf", []))
    for section in brief_json.get("sections", []):
        items.extend(section.get("items", []))
    return [str(item["text"]) for item in items]


# -- citations ------------------------------------------------------------------------------


def citation_validity(
    brief_json: Mapping[str, Any], sentence_text: Callable[[str], str | None]
) -> float:
    """Fraction of the citations of BLUF and section items that quote their item verbatim.

    ``sentence_text`` maps a citation's ``sentence`` ("<docid>:<index>") to the stored text of
    that sentence, or None when there is no such sentence. A citation is valid when the cited
    text equals the item text with white space runs collapsed and ends stripped (nothing else
    is forgiven: case and quote marks must match). A brief with no citations scores 1.0.
    """

    def squash(text: str) -> str:
        return " ".join(text.split())

    items = list(brief_json.get("bluf", []))
    for section in brief_json.get("sections", []):
        items.extend(section.get("items", []))
    valid = total = 0
    for item in items:
        for citation in item.get("citations", []):
            total += 1
            cited = sentence_text(str(citation["sentence"]))
            if cited is not None and squash(cited) == squash(str(item["text"])):
                valid += 1
    return valid / total if total else 1.0


# -- quotes and speakers --------------------------------------------------------------------


def _split_label(label: str) -> tuple[str, str]:
    """("anonymous", "a senior US official") for "anonymous: a senior US official";
    ("person", name) for a label with no known kind prefix. "state:" reads as organisation."""
    head, sep, rest = label.partition(":")
    kind = head.strip().casefold()
    if sep and kind == "state":
        kind = "organisation"
    if sep and kind in KINDS:
        return kind, rest.strip()
    return "person", label.strip()


def _keys(quote: GoldQuote) -> tuple[str, ...]:
    if quote.key:
        return quote.key
    _, label = _split_label(quote.speaker)
    words = label.split()
    return (words[-1],) if words else ()


def _has_keys(label: str, keys: Iterable[str]) -> bool:
    text = normalise(label)
    return all(any(normalise(alt) in text for alt in key.split("|")) for key in keys)


def speaker_matches(predicted: str | None, quote: GoldQuote) -> bool:
    """Whether a predicted speaker label names the gold speaker of ``quote``.

    - A person (gold label with no prefix): the prediction, with any prefix removed, equals
      the canonical name (``normalise``d, so case and white space aside).
    - "anonymous: <label>": the prediction is anonymous too ("anonymous:" prefix) and its
      label contains every key (default: the gold label's last word, e.g. "official").
    - "group: <members>": the prediction is a group ("group:" prefix) naming every key.
    - "organisation: <name>" (or "state: <name>"): the prediction, with an "organisation:" or
      "state:" prefix or none, contains every key. A person's name or an anonymous label is
      wrong.
    A key may list alternatives as "a|b". None (no speaker found) is always wrong.
    """
    if not predicted or not predicted.strip():
        return False
    gold_kind, gold_label = _split_label(quote.speaker)
    kind, label = _split_label(predicted)
    if gold_kind == "person":
        return normalise(label) == normalise(gold_label)
    if gold_kind == "organisation":
        return kind in ("organisation", "person") and _has_keys(label, _keys(quote))
    return kind == gold_kind and _has_keys(label, _keys(quote))


def quote_speaker_accuracy(
    predicted: Sequence[tuple[str, str, str | None]], gold: Gold
) -> tuple[float, list[str]]:
    """Share of gold quotes whose speaker is predicted right.

    ``predicted`` holds (document file name, sentence text, speaker or None). A gold quote is
    right when at least one predicted entry of the same document, whose sentence contains the
    gold ``contains`` (``normalise``d), names the gold speaker (``speaker_matches``). A gold
    quote with no such entry, or only entries naming someone else, is a miss.

    Returns (accuracy in 0..1, one line per miss: "document: contains -> expected, got ...").
    """
    misses: list[str] = []
    right = 0
    for quote in gold.quotes:
        needle = normalise(quote.contains)
        speakers = [
            speaker
            for document, sentence, speaker in predicted
            if document == quote.document and needle in normalise(sentence)
        ]
        if any(speaker_matches(s, quote) for s in speakers):
            right += 1
            continue
        got = ", ".join(repr(s) for s in speakers) if speakers else "no prediction"
        misses.append(f"{quote.document}: {quote.contains!r} -> {quote.speaker!r}, got {got}")
    total = len(gold.quotes)
    return (right / total if total else 1.0), misses


# -- dates ----------------------------------------------------------------------------------


def _strip_edges(text: str) -> str:
    return normalise(text).strip(" '\".,;:()")


def expression_matches(predicted: str, gold_expression: str) -> bool:
    """Whether a predicted expression is the gold one: either contains the other, after
    ``normalise`` and stripping quotes and punctuation at the ends ("on Sept. 13" and
    "Sept. 13" match; "Wednesday, Aug. 30" and "Aug. 30" match)."""
    p, g = _strip_edges(predicted), _strip_edges(gold_expression)
    return bool(p and g) and (p in g or g in p)


def date_accuracy(
    predicted: Sequence[tuple[str, str, str, str, str]], gold: Gold
) -> tuple[float, list[str]]:
    """Share of gold date expressions resolved right.

    ``predicted`` holds (document file name, sentence text, expression, value "YYYY-MM-DD",
    precision). A gold date is right when at least one predicted entry of the same document,
    whose sentence contains the gold ``contains`` and whose expression matches the gold one
    (``expression_matches``), has the gold value and precision.

    Returns (accuracy in 0..1, one line per miss: "document: expression in ... -> expected,
    got ...").
    """
    misses: list[str] = []
    right = 0
    for gd in gold.dates:
        needle = normalise(gd.contains)
        found = [
            (value, precision)
            for document, sentence, expression, value, precision in predicted
            if document == gd.document
            and needle in normalise(sentence)
            and expression_matches(expression, gd.expression)
        ]
        want = (gd.value.isoformat(), gd.precision)
        if any((str(v), str(p)) == want for v, p in found):
            right += 1
            continue
        got = ", ".join(f"{v} ({p})" for v, p in found) if found else "not found"
        misses.append(
            f"{gd.document}: {gd.expression!r} in {gd.contains!r} -> "
            f"{want[0]} ({want[1]}), got {got}"
        )
    total = len(gold.dates)
    return (right / total if total else 1.0), misses


# -- stories --------------------------------------------------------------------------------


def _pairs(groups: Iterable[Iterable[str]]) -> set[frozenset[str]]:
    out: set[frozenset[str]] = set()
    for group in groups:
        out.update(frozenset(p) for p in combinations(sorted(set(group)), 2))
    return out


def story_f1(predicted_groups: Sequence[set[str]], gold: Gold) -> tuple[float, float, float]:
    """Pairwise (precision, recall, F1) of a grouping of documents (by file name) into stories.

    Every unordered pair of documents put in one group is a predicted "same story" pair;
    the gold pairs come from ``gold.stories``. A document in no group is a story of its own.
    Precision is 1.0 when no pair is predicted, recall 1.0 when the gold has no pair; F1 is
    0.0 when precision and recall are both 0.
    """
    pred = _pairs(predicted_groups)
    want = _pairs(s.documents for s in gold.stories)
    hits = len(pred & want)
    precision = hits / len(pred) if pred else 1.0
    recall = hits / len(want) if want else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


# -- clustering, entity linking and outlets (issue 12: the multi-outlet and feed-entries sets) --


@dataclass(frozen=True)
class PRF:
    precision: float
    recall: float
    f1: float


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _as_clusters(groups: Iterable[Iterable[str]], universe: set[str]) -> dict[str, frozenset[str]]:
    """Item -> its cluster, restricted to ``universe``; an item of the universe in no group is
    a cluster of its own. An item in two groups is an error (clusterings partition)."""
    of: dict[str, frozenset[str]] = {}
    for group in groups:
        members = frozenset(g for g in group if g in universe)
        for item in members:
            if item in of:
                raise ValueError(f"{item!r} is in two groups")
            of[item] = members
    for item in universe:
        of.setdefault(item, frozenset((item,)))
    return of


def pairwise_prf(
    predicted: Iterable[Iterable[str]], gold: Iterable[Iterable[str]], universe: Iterable[str]
) -> PRF:
    """Pairwise precision, recall and F1 of a clustering of ``universe`` against the gold one.

    A pair of items is "same story" when one group holds both; items outside ``universe`` are
    ignored and items of it in no group are singletons. Precision is 1.0 when no pair is
    predicted and recall 1.0 when the gold has no pair (nothing to find).
    """
    items = set(universe)
    pred = _pairs(set(c) for c in _as_clusters(predicted, items).values())
    want = _pairs(set(c) for c in _as_clusters(gold, items).values())
    hits = len(pred & want)
    precision = hits / len(pred) if pred else 1.0
    recall = hits / len(want) if want else 1.0
    return PRF(precision, recall, _f1(precision, recall))


def bcubed_prf(
    predicted: Iterable[Iterable[str]], gold: Iterable[Iterable[str]], universe: Iterable[str]
) -> PRF:
    """B-cubed precision, recall and F1 (Bagga and Baldwin, 1998) over ``universe``.

    Per item: precision is the share of its predicted cluster that shares its gold cluster,
    recall the share of its gold cluster found in its predicted cluster; both are averaged
    over items. Unlike pairwise scores, large clusters do not dominate, and singletons count.
    An empty universe scores 1.0.
    """
    items = set(universe)
    if not items:
        return PRF(1.0, 1.0, 1.0)
    pred = _as_clusters(predicted, items)
    want = _as_clusters(gold, items)
    p = r = 0.0
    for item in items:
        both = len(pred[item] & want[item])
        p += both / len(pred[item])
        r += both / len(want[item])
    precision, recall = p / len(items), r / len(items)
    return PRF(precision, recall, _f1(precision, recall))


@dataclass(frozen=True)
class GoldMention:
    document: str
    surface: str
    entity: str


@dataclass(frozen=True)
class PredictedMention:
    document: str
    sentence: str
    entity: str


def names(sentence: str, surface: str) -> bool:
    """Whether ``surface`` occurs in ``sentence`` as whole words (``normalise``d): "UN" is in
    "outside the UN." but not in "launch"."""
    pattern = r"(?<!\w)" + re.escape(normalise(surface)) + r"(?!\w)"
    return re.search(pattern, normalise(sentence)) is not None


def entity_linking(
    predicted: Sequence[PredictedMention], gold: Sequence[GoldMention], scored_entities: set[str]
) -> tuple[PRF, list[str], list[str]]:
    """Precision and recall of the product's entity links against labelled mentions.

    Recall: a gold mention is found when a predicted mention of the same document and entity
    sits in a sentence naming the gold surface (``names``). Precision: a predicted mention
    whose entity is in ``scored_entities`` (the kinds the labels cover: people, organisations,
    vessels) is right when the same document has a gold mention of that entity whose surface
    its sentence names. Labels are maximal names, so "UN" linked inside "UN Security Council"
    is right only where the document also names the UN on its own. No gold mentions: recall
    1.0; no scored predictions: precision 1.0.

    Returns (scores, missed gold mentions, wrong links), the last two as readable lines.
    """
    by_doc: dict[tuple[str, str], list[str]] = {}
    for g in gold:
        by_doc.setdefault((g.document, g.entity), []).append(g.surface)
    pred_by: dict[tuple[str, str], list[str]] = {}
    for p in predicted:
        pred_by.setdefault((p.document, p.entity), []).append(p.sentence)
    missed = [
        f"{g.document}: {g.surface!r} -> {g.entity}"
        for g in gold
        if not any(names(s, g.surface) for s in pred_by.get((g.document, g.entity), []))
    ]
    scored = [p for p in predicted if p.entity in scored_entities]
    wrong = [
        f"{p.document}: {p.entity} in {p.sentence[:80]!r}"
        for p in scored
        if not any(names(p.sentence, s) for s in by_doc.get((p.document, p.entity), []))
    ]
    recall = (len(gold) - len(missed)) / len(gold) if gold else 1.0
    precision = (len(scored) - len(wrong)) / len(scored) if scored else 1.0
    return PRF(precision, recall, _f1(precision, recall)), missed, wrong


def outlet_name(name: str | None) -> str:
    """An outlet name as compared: ``normalise``d, without a leading "the" and end punctuation
    ("The Harbor Times" and "harbor times" are one outlet; "The Harbor Times – Asia" is not)."""
    text = normalise(name or "").strip(" .,;:")
    return text[4:] if text.startswith("the ") else text


def outlet_accuracy(
    predicted: Mapping[str, str | None], gold: Mapping[str, str]
) -> tuple[float, list[str]]:
    """Share of labelled documents whose predicted outlet names the labelled one
    (``outlet_name`` equal). A document with no prediction is wrong; no labels scores 1.0.
    Returns (accuracy, one line per miss)."""
    misses = [
        f"{doc}: {predicted.get(doc)!r}, want {want!r}"
        for doc, want in sorted(gold.items())
        if outlet_name(predicted.get(doc)) != outlet_name(want)
    ]
    return ((len(gold) - len(misses)) / len(gold) if gold else 1.0), misses
