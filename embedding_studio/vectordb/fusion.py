"""Fusing the vector and full-text candidate lists into one score per object (pure code).

The formulas are those of `embedding_studio.models.embeddings.ranking`: reciprocal rank
fusion, a weighted blend of min-max normalised scores, and the vector-only relevance that
boosts multiply when there is no fusion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from embedding_studio.models.embeddings.models import MetricType
from embedding_studio.models.embeddings.ranking import FusionMode, HybridSearch


@dataclass(frozen=True)
class Candidate:
    """An object found by either retriever.

    :param row_id: the row (a personalised copy's own id); `result_id` is what results report
    :param distance: the object's aggregated vector distance (also for text-only finds)
    :param vector_rank: 1-based rank in the vector list; None when not in it
    :param text_rank: 1-based rank in the full-text list; None when the text did not match
    :param text_score: the full-text rank value (`ts_rank`); None when not matched
    """

    row_id: str
    result_id: str
    distance: float
    vector_rank: int | None = None
    text_rank: int | None = None
    text_score: float | None = None


def similarity(distance: float, metric: MetricType) -> float:
    """Vector-only relevance in (0, 1], larger is closer: 1 - d/2 (cosine distance d in
    [0, 2]), 1 / (1 + d) (L2), 1 / (1 + e^d) (d: negative inner product)."""
    if metric is MetricType.COSINE:
        return max(0.0, 1.0 - distance / 2.0)
    if metric is MetricType.EUCLID:
        return 1.0 / (1.0 + max(distance, 0.0))
    return 1.0 / (1.0 + math.exp(min(distance, 700.0)))


def rrf_scores(candidates: list[Candidate], hybrid: HybridSearch) -> dict[str, float]:
    """sum over retrievers of weight / (rrf_k + rank); a retriever that missed adds 0."""
    scores = {}
    for item in candidates:
        score = 0.0
        if item.vector_rank is not None:
            score += hybrid.vector_weight / (hybrid.rrf_k + item.vector_rank)
        if item.text_rank is not None:
            score += hybrid.text_weight / (hybrid.rrf_k + item.text_rank)
        scores[item.row_id] = score
    return scores


def weighted_scores(candidates: list[Candidate], hybrid: HybridSearch) -> dict[str, float]:
    """vector_weight * (d_max - d) / (d_max - d_min) + text_weight * text / text_max, over
    the candidates (a constant list normalises to 1; an unmatched text counts 0)."""
    if not candidates:
        return {}
    distances = [item.distance for item in candidates]
    low, high = min(distances), max(distances)
    text_max = max((item.text_score or 0.0 for item in candidates), default=0.0)
    scores = {}
    for item in candidates:
        vector_norm = 1.0 if high == low else (high - item.distance) / (high - low)
        text_norm = (item.text_score or 0.0) / text_max if text_max > 0 else 0.0
        scores[item.row_id] = hybrid.vector_weight * vector_norm + hybrid.text_weight * text_norm
    return scores


def fused_scores(candidates: list[Candidate], hybrid: HybridSearch) -> dict[str, float]:
    if hybrid.mode is FusionMode.RRF:
        return rrf_scores(candidates, hybrid)
    return weighted_scores(candidates, hybrid)
