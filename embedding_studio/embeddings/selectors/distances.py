"""An object's distance to a query computed from its part vectors, in the vector
collection's terms (so it compares with the distances a similarity search returns)."""

from __future__ import annotations

import torch

from embedding_studio.models.embeddings.models import (
    MetricAggregationType,
    MetricType,
    SearchIndexInfo,
)


def part_distances(
    query: torch.Tensor, parts: torch.Tensor, metric_type: MetricType
) -> torch.Tensor:
    """Distances [M] between a query [D] and parts [M, D]: cosine distance (1 - cosine),
    negative inner product, or L2 distance."""
    if parts.ndim != 2 or query.ndim != 1 or parts.shape[1] != query.shape[0]:
        raise ValueError(
            f"expected query [D] and parts [M, D], got {tuple(query.shape)} and "
            f"{tuple(parts.shape)}"
        )
    if metric_type is MetricType.COSINE:
        return 1.0 - torch.nn.functional.cosine_similarity(parts, query.unsqueeze(0), dim=-1)
    if metric_type is MetricType.DOT:
        return -(parts @ query)
    return torch.linalg.vector_norm(parts - query.unsqueeze(0), dim=-1)


def aggregated_distance(
    query: list[float], part_vectors: list[list[float]], search_index_info: SearchIndexInfo
) -> float:
    """The object's distance: its closest part's (MIN) or the mean over its parts (AVG).

    :raises ValueError: when the object has no part vectors or dimensions differ
    """
    if not part_vectors:
        raise ValueError("the object has no part vectors to compare with the query")
    distances = part_distances(
        torch.tensor(query, dtype=torch.float64),
        torch.tensor(part_vectors, dtype=torch.float64),
        search_index_info.metric_type,
    )
    if search_index_info.metric_aggregation_type is MetricAggregationType.MIN:
        return float(distances.min())
    return float(distances.mean())
