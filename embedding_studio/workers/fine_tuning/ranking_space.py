"""How training ranks items for a query, consistently with the collection's search:
part similarities under the index's metric (or the plugin's ranker), aggregated per
item as the index aggregates (MIN distance = best part; AVG = mean over parts)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from embedding_studio.models.embeddings.models import (
    MetricAggregationType,
    MetricType,
    SearchIndexInfo,
)

Ranker = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def metric_similarity(metric_type: MetricType) -> Ranker:
    """[N, D] x [M, D] -> [N, M], higher = closer: cosine, dot, or -L2 distance."""

    def rank(queries: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        if metric_type is MetricType.COSINE:
            return F.normalize(queries, dim=-1) @ F.normalize(items, dim=-1).T
        if metric_type is MetricType.DOT:
            return queries @ items.T
        return -torch.cdist(queries, items)

    return rank


@dataclass(frozen=True)
class RankingSpace:
    """:param ranker: [N, D] x [M, D] -> [N, M] part ranks
    :param is_similarity: higher rank = closer
    :param aggregation: how an item's part ranks combine
    :param cosine_baseline: ranks are cosine similarities of the collection's metric, so
        a recorded search distance d is the rank 1 - d (train distance shifts use it)"""

    ranker: Ranker
    is_similarity: bool
    aggregation: MetricAggregationType
    cosine_baseline: bool

    @classmethod
    def of(
        cls, index: SearchIndexInfo, ranker: Ranker | None = None, is_similarity: bool = True
    ) -> RankingSpace:
        if ranker is None:
            return cls(
                metric_similarity(index.metric_type),
                True,
                index.metric_aggregation_type,
                index.metric_type is MetricType.COSINE,
            )
        return cls(ranker, is_similarity, index.metric_aggregation_type, False)

    def item_ranks(
        self, queries: torch.Tensor, parts: torch.Tensor, owners: list[list[int]]
    ) -> torch.Tensor:
        """[Q, M] ranks of M items given their parts' vectors `parts` [P, D];
        `owners[m]` lists the rows of `parts` that belong to item m (at least one)."""
        if queries.ndim != 2 or parts.ndim != 2:
            raise ValueError(
                f"expected queries [Q, D] and parts [P, D], got {tuple(queries.shape)} and "
                f"{tuple(parts.shape)}"
            )
        part_ranks = self.ranker(queries, parts)  # [Q, P]
        width = max((len(rows) for rows in owners), default=1)
        index = torch.zeros((len(owners), width), dtype=torch.long, device=parts.device)
        mask = torch.zeros((len(owners), width), dtype=torch.bool, device=parts.device)
        for item, rows in enumerate(owners):
            index[item, : len(rows)] = torch.tensor(rows, dtype=torch.long)
            mask[item, : len(rows)] = True
        gathered = part_ranks[:, index]  # [Q, M, K]
        if self.aggregation is MetricAggregationType.AVG:
            total = gathered.masked_fill(~mask, 0.0).sum(dim=-1)
            return total / mask.sum(dim=-1).clamp(min=1)
        if self.is_similarity:
            return gathered.masked_fill(~mask, float("-inf")).amax(dim=-1)
        return gathered.masked_fill(~mask, float("inf")).amin(dim=-1)

    def order(self, ranks: torch.Tensor) -> torch.Tensor:
        """Indices sorting each row of [Q, M] ranks from closest to farthest."""
        return torch.argsort(ranks, dim=-1, descending=self.is_similarity)

    @property
    def sign(self) -> float:
        """+1 when a higher rank is closer, else -1."""
        return 1.0 if self.is_similarity else -1.0
