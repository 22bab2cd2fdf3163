"""Sentence ranking: TF-IDF centrality across documents, and redundancy removal (MMR).

Pure functions over lists of strings; no store, no I/O. Vectors are sparse dicts, which is
plenty for the few thousand candidates a brief ranks (candidates come from the index).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from briefs.terms import terms

if TYPE_CHECKING:
    import numpy as np


Vector = dict[str, float]
# How much saying a statement's words across several chosen statements counts as redundancy.
UNION_WEIGHT = 0.5


def tfidf_vectors(texts: Sequence[str]) -> list[Vector]:
    """Unit-length TF-IDF vectors, IDF computed over ``texts`` themselves."""
    unit = _unit_vectors(texts)
    return [dict(unit[text]) for text in texts]


def _unit_vectors(texts: Sequence[str]) -> dict[str, Vector]:
    """Each distinct text's TF-IDF vector, in order of first occurrence.

    A text is weighed once however often it repeats (wire copy repeats a sentence across
    outlets); each repeat still counts in the document frequencies.
    """
    occurrences = Counter(texts)
    bags = {text: Counter(terms(text)) for text in occurrences}
    df: Counter[str] = Counter()
    for text, bag in bags.items():
        times = occurrences[text]
        for term in bag:
            df[term] += times
    n = len(texts)
    idf = {term: math.log((1 + n) / (1 + count)) + 1.0 for term, count in df.items()}
    unit: dict[str, Vector] = {}
    for text, bag in bags.items():
        vec = {term: (1 + math.log(tf)) * idf[term] for term, tf in bag.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        unit[text] = {term: v / norm for term, v in vec.items()}
    return unit


class TermMatrix:
    """Unit-length term vectors as one dense matrix (rows: statements), for fast similarity."""

    def __init__(self, vectors: Sequence[Vector]) -> None:
        import numpy as np  # here, not at the top: analysis needs ``terms``, not numpy

        # Columns in order of first use; every weight written in one indexed assignment
        # (one numpy call, not one per weight: 12 ms for 600 statements before).
        vocabulary: dict[str, int] = {}
        columns: list[int] = []
        weights: list[float] = []
        lengths: list[int] = []
        for vec in vectors:
            columns.extend([vocabulary.setdefault(term, len(vocabulary)) for term in vec])
            weights.extend(vec.values())
            lengths.append(len(vec))
        self.rows = np.zeros((len(vectors), max(1, len(vocabulary))), dtype=np.float32)
        if columns:
            row_ids = np.repeat(np.arange(len(vectors)), lengths)
            self.rows[row_ids, np.asarray(columns)] = np.asarray(weights, dtype=np.float64)

    @classmethod
    def from_texts(cls, texts: Sequence[str]) -> TermMatrix:
        """``TermMatrix(tfidf_vectors(texts))``, the very same rows, each distinct text's
        row made once and copied to its repeats."""
        unit = _unit_vectors(texts)
        matrix = cls(list(unit.values()))
        position = {text: i for i, text in enumerate(unit)}
        matrix.rows = matrix.rows[[position[text] for text in texts]]
        return matrix

    def similarity(self) -> np.ndarray:
        """Cosine similarity of every pair of rows."""
        return self.rows @ self.rows.T


def centrality(
    matrix: TermMatrix, groups: Sequence[str], same_group_weight: float = 0.3
) -> list[float]:
    """Mean similarity of each statement to all others; same-document pairs count less."""
    import numpy as np

    n = matrix.rows.shape[0]
    if n == 0:
        return []
    similarity = matrix.similarity()
    group_index = {g: k for k, g in enumerate(dict.fromkeys(groups))}
    group_ids = np.array([group_index[g] for g in groups])
    same = group_ids[:, None] == group_ids[None, :]
    similarity[same] *= same_group_weight  # in place: np.where made two more n x n arrays
    np.fill_diagonal(similarity, 0.0)
    scores = similarity.sum(axis=1) / max(1, n - 1)
    top = float(scores.max()) or 1.0
    return [float(s) / top for s in scores]


def mmr(
    candidates: Sequence[int],
    relevance: Sequence[float],
    matrix: TermMatrix,
    k: int,
    chosen: list[int] | None = None,
    diversity: float = 0.6,
    bonus: Callable[[int, list[int]], float] | None = None,
    skip: Callable[[int, list[int]], bool] | None = None,
) -> list[int]:
    """Maximal marginal relevance: pick ``k`` of ``candidates`` (indices), best and least alike.

    Redundancy is the larger of the closest chosen statement's similarity and (weighted by
    UNION_WEIGHT) the share of the statement's words the chosen ones already say together.
    ``chosen`` holds what is already selected elsewhere (it counts for redundancy).
    ``bonus`` may add a per-candidate adjustment given the current selection (diversity of
    sources, for instance). ``skip`` may refuse a candidate given the current selection (a
    near-repeat, ``briefs.compose.redundancy``): the next best is taken, and the refused one is out.
    """
    import numpy as np

    picked: list[int] = []
    already = list(chosen or [])
    taken = set(already)
    pool = [c for c in candidates if c not in taken]
    if not pool or k <= 0:
        return picked
    rows = matrix.rows
    squares = rows[pool] ** 2
    totals = squares.sum(axis=1)
    totals[totals == 0] = 1.0
    weights = np.asarray([relevance[c] for c in pool], dtype=np.float64)
    covered = (rows[already] > 0).any(axis=0) if already else np.zeros(rows.shape[1], bool)
    pairwise = (rows[pool] @ rows[already].T).max(axis=1) if already else np.zeros(len(pool))
    alive = np.ones(len(pool), dtype=bool)
    while alive.any() and len(picked) < k:
        union = (squares @ covered.astype(np.float32)) / totals
        redundancy = np.maximum(pairwise, UNION_WEIGHT * union)
        scores = (1 - diversity) * weights - diversity * redundancy
        if bonus is not None:
            scores = scores + np.array([bonus(c, already) for c in pool])
        scores[~alive] = -np.inf
        best = int(np.argmax(scores))
        if skip is not None:
            # Walk down from the best; refused candidates are out for good.
            for best in np.argsort(-scores, kind="stable"):
                if not alive[best] or not skip(pool[best], already):
                    break
                alive[best] = False
            if not alive[best]:
                break
            best = int(best)
        choice = pool[best]
        picked.append(choice)
        already.append(choice)
        alive[best] = False
        covered |= rows[choice] > 0
        pairwise = np.maximum(pairwise, rows[pool] @ rows[choice])
    return picked
