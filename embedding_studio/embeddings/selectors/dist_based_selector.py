"""Selection by a margin on the distances the vector search returned."""

from __future__ import annotations

import torch

from embedding_studio.embeddings.selectors.selector import AbstractSelector
from embedding_studio.models.embeddings.models import MetricType, SearchIndexInfo
from embedding_studio.models.embeddings.objects import ObjectWithDistance


def similarity_from_distance(distance: float, metric_type: MetricType) -> float:
    """The similarity behind a collection distance: cosine similarity (1 - cosine
    distance), inner product (minus the negative inner product), or 1 / (1 + L2)."""
    if metric_type is MetricType.COSINE:
        return 1.0 - distance
    if metric_type is MetricType.DOT:
        return -distance
    return 1.0 / (1.0 + max(distance, 0.0))


class DistBasedSelector(AbstractSelector):
    """Keeps the categories whose margin-corrected value is positive.

    The value of a category comes from its distance to the query:

    - `is_similarity=True`: the similarity (cosine similarity, inner product, or
      1 / (1 + L2)); with `scale_to_one`, a cosine or inner product s becomes (s + 1) / 2.
      The corrected value is `similarity - (1 - margin)`: positive when the similarity
      exceeds 1 - margin.
    - `is_similarity=False`: the distance itself (with `scale_to_one`, a cosine distance
      is halved into [0, 1]). The corrected value is `margin - distance`: positive when
      the category is closer than `margin`.

    Either way a higher corrected value means a more confident match; subclasses turn it
    into a decision with `_calculate_binary_labels` (here: > 0) and into a confidence
    with `_calculate_confidences` (here: 1.0 or 0.0).

    :param search_index_info: the categories collection's vector schema (its metric)
    :param is_similarity: compare similarities (True) or distances (False)
    :param margin: the selection margin, see above
    :param softmin_temperature: kept for vector-based subclasses that aggregate parts
    :param scale_to_one: map cosine or inner-product values into [0, 1] first
    """

    def __init__(
        self,
        search_index_info: SearchIndexInfo,
        is_similarity: bool = False,
        margin: float = 0.2,
        softmin_temperature: float = 1.0,
        scale_to_one: bool = False,
    ) -> None:
        self._search_index_info = search_index_info
        self._is_similarity = is_similarity
        self._margin = margin
        self._softmin_temperature = softmin_temperature
        self._scale_to_one = scale_to_one

    @property
    def vectors_are_needed(self) -> bool:
        return False

    def _convert_values(self, categories: list[ObjectWithDistance]) -> torch.Tensor:
        metric = self._search_index_info.metric_type
        scalable = metric in (MetricType.COSINE, MetricType.DOT)
        values = []
        for category in categories:
            if self._is_similarity:
                value = similarity_from_distance(category.distance, metric)
                if self._scale_to_one and scalable:
                    value = (value + 1.0) / 2.0
            else:
                value = category.distance
                if self._scale_to_one and metric is MetricType.COSINE:
                    value = value / 2.0
                elif self._scale_to_one and metric is MetricType.DOT:
                    value = (1.0 + value) / 2.0
            values.append(value)
        return torch.tensor(values, dtype=torch.float64)

    def _corrected_values(self, categories: list[ObjectWithDistance]) -> torch.Tensor:
        """Shape [N]; positive means beyond the margin on the confident side."""
        values = self._convert_values(categories)
        if self._is_similarity:
            return values - (1.0 - self._margin)
        return self._margin - values

    def _calculate_binary_labels(self, corrected_values: torch.Tensor) -> torch.Tensor:
        """Which categories to keep (bool [N]) from their corrected values."""
        return corrected_values > 0

    def _calculate_confidences(self, corrected_values: torch.Tensor) -> torch.Tensor:
        """Confidence in [0, 1] per category; here 1.0 when kept, else 0.0."""
        return self._calculate_binary_labels(corrected_values).to(torch.float64)

    def select(
        self,
        categories: list[ObjectWithDistance],
        query_vector: torch.Tensor | None = None,  # noqa: ARG002 - distances suffice
    ) -> list[int]:
        if not categories:
            return []
        labels = self._calculate_binary_labels(self._corrected_values(categories))
        return [int(index) for index in torch.nonzero(labels).flatten().tolist()]

    def get_confidences(
        self,
        categories: list[ObjectWithDistance],
        query_vector: torch.Tensor | None = None,  # noqa: ARG002 - distances suffice
    ) -> list[float]:
        if not categories:
            return []
        confidences = self._calculate_confidences(self._corrected_values(categories))
        return [float(value) for value in confidences.tolist()]
