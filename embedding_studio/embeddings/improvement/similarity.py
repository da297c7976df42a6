"""Pure tensor maths of the torch-based adjuster: query-to-object similarity under the
index's metric, aggregated over an object's parts, and the adjustment loss.

Batches are padded: a boolean mask marks the real entries, so sessions with different
numbers of results or parts share one tensor. Masked entries never influence a value
or a gradient.

Shapes: `B` sessions, `N1` query parts, `K` objects per session, `M` parts per object,
`D` dimensions.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from embedding_studio.models.embeddings.models import MetricAggregationType, MetricType


def soft_min(
    values: torch.Tensor, temperature: float, dim: int, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """Differentiable minimum of `values` along `dim`: the mean weighted by
    `softmax(-values / temperature)`.

    A low temperature gives (nearly) the minimum, a high one (nearly) the plain mean.
    Entries where `mask` is False are ignored; a slice with no entry left gives 0.
    """
    if temperature <= 0:
        raise ValueError(f"softmin temperature must be > 0; got {temperature}")
    logits = -values / temperature
    if mask is not None:
        logits = logits.masked_fill(~mask, float("-inf"))
        logits = logits.masked_fill(~mask.any(dim=dim, keepdim=True), 0.0)
        values = values.masked_fill(~mask, 0.0)
    weights = torch.softmax(logits, dim=dim)
    return (weights * values).sum(dim=dim)


def masked_mean(values: torch.Tensor, dim: int, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean of `values` along `dim` over the entries where `mask` is True (0 if none)."""
    if mask is None:
        return values.mean(dim=dim)
    total = values.masked_fill(~mask, 0.0).sum(dim=dim)
    return total / mask.to(values.dtype).sum(dim=dim).clamp(min=1.0)


def part_similarities(
    queries: torch.Tensor, items: torch.Tensor, metric_type: MetricType
) -> torch.Tensor:
    """Similarity of every query part to every part of every object.

    :param queries: `[B, N1, D]`
    :param items: `[B, K, M, D]`
    :return: `[B, K, N1, M]`: cosine similarity, dot product, or negative euclidean
        distance (so that higher always means closer)
    """
    if queries.ndim != 3 or items.ndim != 4:
        raise ValueError(
            f"expected queries [B, N1, D] and items [B, K, M, D]; "
            f"got {tuple(queries.shape)} and {tuple(items.shape)}"
        )
    if metric_type is MetricType.COSINE:
        return torch.einsum(
            "bnd,bkmd->bknm", F.normalize(queries, p=2, dim=-1), F.normalize(items, p=2, dim=-1)
        )
    if metric_type is MetricType.DOT:
        return torch.einsum("bnd,bkmd->bknm", queries, items)
    if metric_type is MetricType.EUCLID:
        differences = queries[:, None, :, None, :] - items[:, :, None, :, :]
        return -torch.linalg.vector_norm(differences, dim=-1)
    raise ValueError(f"unsupported metric type: {metric_type!r}")


def object_similarities(
    queries: torch.Tensor,
    items: torch.Tensor,
    metric_type: MetricType,
    aggregation: MetricAggregationType,
    softmin_temperature: float,
    query_mask: torch.Tensor | None = None,
    part_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """One similarity per (session, object), aggregated the way the index ranks objects.

    Over an object's parts: with MIN aggregation, the soft minimum of the distances
    (`soft_min` of the negated similarities, so the closest part weighs most and the
    temperature decides how much); with AVG, the mean. Over a multi-part query: the mean.

    :param queries: `[B, N1, D]`, `query_mask` `[B, N1]`
    :param items: `[B, K, M, D]`, `part_mask` `[B, K, M]`
    :return: `[B, K]`
    """
    similarities = part_similarities(queries, items, metric_type)  # [B, K, N1, M]
    mask = None
    if part_mask is not None:
        mask = part_mask[:, :, None, :].expand_as(similarities)
    if aggregation is MetricAggregationType.MIN:
        per_query_part = -soft_min(-similarities, softmin_temperature, dim=-1, mask=mask)
    elif aggregation is MetricAggregationType.AVG:
        per_query_part = masked_mean(similarities, dim=-1, mask=mask)
    else:
        raise ValueError(f"unsupported metric aggregation type: {aggregation!r}")
    # per_query_part: [B, K, N1]
    query_parts_mask = None
    if query_mask is not None:
        query_parts_mask = query_mask[:, None, :].expand_as(per_query_part)
    return masked_mean(per_query_part, dim=-1, mask=query_parts_mask)


def adjustment_loss(
    clicked_similarity: torch.Tensor,
    non_clicked_similarity: torch.Tensor,
    clicked_mask: torch.Tensor | None = None,
    non_clicked_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """`-mean(clicked^3) + mean(non_clicked^3)` over the real entries of the batch.

    The cube keeps the sign (so the loss falls as clicked objects get closer and the
    others farther) and weighs large similarities most. An empty group adds 0.
    """
    clicked = _flat_mean(clicked_similarity**3, clicked_mask)
    non_clicked = _flat_mean(non_clicked_similarity**3, non_clicked_mask)
    return non_clicked - clicked


def _flat_mean(values: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    flat_mask = None if mask is None else mask.reshape(-1)
    if values.numel() == 0:
        return values.sum()
    return masked_mean(values.reshape(-1), dim=0, mask=flat_mask)
