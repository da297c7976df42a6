"""The selector interface a categories plugin returns from `get_category_selector()`."""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch

from embedding_studio.models.embeddings.objects import ObjectWithDistance


class AbstractSelector(ABC):
    """Abstract base class for selector algorithms that filter embedding search results.

    Query parsing fetches the categories nearest to a query (closest first), then asks the
    plugin's selector which of them to keep.
    """

    @abstractmethod
    def select(
        self,
        categories: list[ObjectWithDistance],
        query_vector: torch.Tensor | None = None,
    ) -> list[int]:
        """Selects indices of objects that meet the selection criteria.

        :param categories: the fetched categories with their distances to the query, in
            the collection's terms (cosine distance, negative inner product or L2)
        :param query_vector: the query embedding, shape [D] or [1, D]
        :return: indices into `categories` of the selected ones, ascending
        """

    @property
    @abstractmethod
    def vectors_are_needed(self) -> bool:
        """Whether this selector requires access to the actual vectors (then the parts of
        each category carry their vectors)."""

    def get_confidences(
        self,
        categories: list[ObjectWithDistance],
        query_vector: torch.Tensor | None = None,
    ) -> list[float]:
        """One confidence in [0, 1] per category. By default 1.0 for the selected ones and
        0.0 for the others; probabilistic selectors return their probabilities."""
        selected = set(self.select(categories, query_vector))
        return [1.0 if index in selected else 0.0 for index in range(len(categories))]

    def missing_candidates(
        self,
        categories: list[ObjectWithDistance],  # noqa: ARG002 - a default for subclasses
        query_vector: torch.Tensor | None = None,  # noqa: ARG002
    ) -> list[str]:
        """Ids of categories this selector would also select that are not among
        `categories` (e.g. ancestors of a match that were not fetched). Query parsing
        appends them, with their distances to the query, before calling `select`.
        None by default."""
        return []
