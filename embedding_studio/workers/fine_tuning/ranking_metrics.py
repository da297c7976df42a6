"""Ranking metrics of one query (graded gains; a relevant item has gain > 0)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def ndcg_at_k(ranked: Sequence[str], gains: Mapping[str, float], k: int = 10) -> float:
    """Normalised discounted cumulative gain of the first `k` of `ranked` (0 without gains)."""
    dcg = sum(gains.get(item, 0.0) / math.log2(i + 2) for i, item in enumerate(ranked[:k]))
    ideal = sorted((g for g in gains.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def mrr_at_k(ranked: Sequence[str], gains: Mapping[str, float], k: int = 10) -> float:
    """1 / position of the first relevant item among the first `k` (0 if none)."""
    for i, item in enumerate(ranked[:k]):
        if gains.get(item, 0.0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def recall_at_k(ranked: Sequence[str], gains: Mapping[str, float], k: int = 10) -> float:
    """Share of the relevant items found among the first `k` (0 without relevant items)."""
    relevant = {item for item, gain in gains.items() if gain > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)
