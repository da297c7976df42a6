"""Selection by the probability a sigmoid gives the margin-corrected value."""

from __future__ import annotations

import torch

from embedding_studio.embeddings.selectors.dist_based_selector import DistBasedSelector
from embedding_studio.models.embeddings.models import SearchIndexInfo


class ProbsDistBasedSelector(DistBasedSelector):
    """Probability-based selector using sigmoid scaling.

    A category's probability is `sigmoid(corrected * scale)`, where `corrected` is its
    margin-corrected value (see `DistBasedSelector`); it is kept when the probability is
    above `prob_threshold`, and the probability is its confidence.

    Example (seed 000; inner-product similarity above 1 - margin)::

        ProbsDistBasedSelector(
            search_index_info=SearchIndexInfo(dimensions=384, metric_type=MetricType.DOT,
                                              metric_aggregation_type=MetricAggregationType.MIN),
            is_similarity=True, margin=0.2, scale=10.0, scale_to_one=False, prob_threshold=0.985,
        )

    :param search_index_info: the categories collection's vector schema (its metric)
    :param is_similarity: compare similarities (True) or distances (False)
    :param margin: the selection margin
    :param scale: steepness of the sigmoid
    :param prob_threshold: keep categories whose probability is above this (0 to 1)
    :param scale_to_one: map cosine or inner-product values into [0, 1] first
    :param softmin_temperature: kept for vector-based subclasses
    """

    def __init__(
        self,
        search_index_info: SearchIndexInfo,
        is_similarity: bool = False,
        margin: float = 0.2,
        scale: float = 10.0,
        prob_threshold: float = 0.5,
        scale_to_one: bool = False,
        softmin_temperature: float = 1.0,
    ) -> None:
        if not 0.0 <= prob_threshold <= 1.0:
            raise ValueError(f"prob_threshold must be within [0, 1], got {prob_threshold}")
        if scale <= 0:
            raise ValueError(f"scale must be positive, got {scale}")
        super().__init__(
            search_index_info=search_index_info,
            is_similarity=is_similarity,
            margin=margin,
            softmin_temperature=softmin_temperature,
            scale_to_one=scale_to_one,
        )
        self._scale = scale
        self._prob_threshold = prob_threshold

    def _calculate_confidences(self, corrected_values: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(corrected_values * self._scale)

    def _calculate_binary_labels(self, corrected_values: torch.Tensor) -> torch.Tensor:
        return self._calculate_confidences(corrected_values) > self._prob_threshold
