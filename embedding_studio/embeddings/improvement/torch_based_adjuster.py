"""Gradient-based vector adjustment (the seeds' `TorchBasedAdjuster`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch

from embedding_studio.embeddings.data.clickstream.improvement_input import (
    ImprovementElement,
    ImprovementInput,
)
from embedding_studio.embeddings.improvement.similarity import (
    adjustment_loss,
    object_similarities,
)
from embedding_studio.embeddings.improvement.vectors_adjuster import VectorsAdjuster
from embedding_studio.models.embeddings.models import SearchIndexInfo

logger = logging.getLogger(__name__)


@dataclass
class _Padded:
    """Vectors of a batch in one zero-padded tensor; `mask` marks the real rows."""

    vectors: torch.Tensor  # [B, K, M, D] (queries: [B, N1, D])
    mask: torch.Tensor  # [B, K, M] (queries: [B, N1])


class TorchBasedAdjuster(VectorsAdjuster):
    """Moves the vectors of clicked results toward the query and the other shown
    results away from it, by a few AdamW steps on the loss
    `-mean(clicked_similarity^3) + mean(non_clicked_similarity^3)`.

    Similarity follows the index's metric (cosine, dot product, or negative euclidean
    distance). An object's parts combine as the index ranks objects: with MIN
    aggregation, a soft minimum of the part distances at `softmin_temperature` (low:
    the closest part gets nearly all the weight; high: all parts weigh alike); with AVG,
    the mean. Sessions with different numbers of results or parts share one padded
    batch. The given tensors are never changed: new inputs with new tensors come back.

    :param search_index_info: the collection's dimensions, metric and aggregation
    :param adjustment_rate: AdamW learning rate (default 0.1)
    :param num_iterations: optimisation steps per call (default 10)
    :param softmin_temperature: temperature of the soft minimum over parts (default 1.0)
    :raises ValueError: on a non-positive parameter, or on vectors whose last dimension
        is not `search_index_info.dimensions`
    """

    def __init__(
        self,
        search_index_info: SearchIndexInfo,
        adjustment_rate: float = 0.1,
        num_iterations: int = 10,
        softmin_temperature: float = 1.0,
    ):
        if adjustment_rate <= 0:
            raise ValueError(f"adjustment_rate must be > 0; got {adjustment_rate}")
        if num_iterations < 0:
            raise ValueError(f"num_iterations must be >= 0; got {num_iterations}")
        if softmin_temperature <= 0:
            raise ValueError(f"softmin_temperature must be > 0; got {softmin_temperature}")
        self.search_index_info = search_index_info
        self.adjustment_rate = adjustment_rate
        self.num_iterations = num_iterations
        self.softmin_temperature = softmin_temperature

    def compute_similarity(
        self,
        queries: torch.Tensor,
        items: torch.Tensor,
        query_mask: torch.Tensor | None = None,
        part_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Similarity of each object to its session's query: queries `[B, N1, D]`,
        items `[B, K, M, D]` -> `[B, K]` (masks as in `object_similarities`)."""
        return object_similarities(
            queries,
            items,
            self.search_index_info.metric_type,
            self.search_index_info.metric_aggregation_type,
            self.softmin_temperature,
            query_mask=query_mask,
            part_mask=part_mask,
        )

    def adjust_vectors(
        self, data_for_improvement: list[ImprovementInput]
    ) -> list[ImprovementInput]:
        if not data_for_improvement:
            return []
        self._check_dimensions(data_for_improvement)
        queries = _pad_queries([inp.query for inp in data_for_improvement])
        dimensions = self.search_index_info.dimensions
        clicked = _pad_elements([inp.clicked_elements for inp in data_for_improvement], dimensions)
        non_clicked = _pad_elements(
            [inp.non_clicked_elements for inp in data_for_improvement], dimensions
        )
        self._optimise(queries, clicked, non_clicked)
        return [
            inp.model_copy(
                update={
                    "query": inp.query.model_copy(),
                    "clicked_elements": _unpad(inp.clicked_elements, clicked.vectors[index]),
                    "non_clicked_elements": _unpad(
                        inp.non_clicked_elements, non_clicked.vectors[index]
                    ),
                }
            )
            for index, inp in enumerate(data_for_improvement)
        ]

    def _optimise(self, queries: _Padded, clicked: _Padded, non_clicked: _Padded) -> None:
        """Run the AdamW steps, updating `clicked.vectors` and `non_clicked.vectors`."""
        parameters = [p.vectors for p in (clicked, non_clicked) if p.vectors.numel() > 0]
        if not parameters or self.num_iterations == 0:
            return
        for parameter in parameters:
            parameter.requires_grad_(True)
        optimizer = torch.optim.AdamW(parameters, lr=self.adjustment_rate)
        for step in range(self.num_iterations):
            optimizer.zero_grad()
            loss = adjustment_loss(
                self._similarity_of(queries, clicked),
                self._similarity_of(queries, non_clicked),
                clicked.mask.any(dim=-1),
                non_clicked.mask.any(dim=-1),
            )
            loss.backward()
            optimizer.step()
            logger.debug("adjustment step %d: loss %.6f", step, loss.item())
        for parameter in parameters:
            parameter.requires_grad_(False)

    def _similarity_of(self, queries: _Padded, items: _Padded) -> torch.Tensor:
        return self.compute_similarity(queries.vectors, items.vectors, queries.mask, items.mask)

    def _check_dimensions(self, data_for_improvement: list[ImprovementInput]) -> None:
        expected = self.search_index_info.dimensions
        for inp in data_for_improvement:
            for element in [inp.query, *inp.clicked_elements, *inp.non_clicked_elements]:
                if element.vector.shape[-1] != expected:
                    raise ValueError(
                        f"session {inp.session_id}: vector of {element.id!r} has "
                        f"{element.vector.shape[-1]} dimensions; expected {expected}"
                    )


def _pad_queries(queries: list[ImprovementElement]) -> _Padded:
    """Queries as `[B, N1, D]` float32 with mask `[B, N1]`."""
    parts = [query.parts for query in queries]
    longest = max(p.shape[0] for p in parts)
    dimensions = parts[0].shape[-1]
    vectors = torch.zeros(len(parts), longest, dimensions)
    mask = torch.zeros(len(parts), longest, dtype=torch.bool)
    for index, p in enumerate(parts):
        vectors[index, : p.shape[0]] = p.detach().to(torch.float32)
        mask[index, : p.shape[0]] = True
    return _Padded(vectors, mask)


def _pad_elements(groups: list[list[ImprovementElement]], dimensions: int) -> _Padded:
    """Each session's elements as `[B, K, M, D]` float32 with mask `[B, K, M]`;
    the values are copies, so the optimiser never touches the callers' tensors."""
    most_objects = max((len(group) for group in groups), default=0)
    all_parts = [element.parts for group in groups for element in group]
    most_parts = max((p.shape[0] for p in all_parts), default=0)
    vectors = torch.zeros(len(groups), most_objects, most_parts, dimensions)
    mask = torch.zeros(len(groups), most_objects, most_parts, dtype=torch.bool)
    for batch_index, group in enumerate(groups):
        for object_index, element in enumerate(group):
            count = element.parts.shape[0]
            vectors[batch_index, object_index, :count] = element.parts.detach().to(torch.float32)
            mask[batch_index, object_index, :count] = True
    return _Padded(vectors, mask)


def _unpad(elements: list[ImprovementElement], adjusted: torch.Tensor) -> list[ImprovementElement]:
    """New elements holding the adjusted rows, in each element's shape and dtype."""
    result = []
    for object_index, element in enumerate(elements):
        count = element.parts.shape[0]
        vector = adjusted[object_index, :count].detach().clone().to(element.vector.dtype)
        if element.vector.ndim == 1:
            vector = vector[0]
        result.append(element.model_copy(update={"vector": vector}))
    return result
