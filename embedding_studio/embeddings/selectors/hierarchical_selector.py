"""A selector that adds the ancestors of the categories another selector keeps."""

from __future__ import annotations

import torch

from embedding_studio.embeddings.selectors.category_graph import CategoryGraph
from embedding_studio.embeddings.selectors.selector import AbstractSelector
from embedding_studio.models.embeddings.objects import ObjectWithDistance


class HierarchicalCategorySelector(AbstractSelector):
    """Selector that respects category hierarchy: the base selector's matches plus all
    their ancestors in `category_graph`.

    An ancestor can only be selected when it is among the candidates; it is listed by
    `missing_candidates` otherwise, so query parsing fetches it first. An ancestor's
    confidence is at least that of its most confident selected descendant.

    :param base_selector: core selection logic (e.g. a `ProbsDistBasedSelector`)
    :param category_graph: directed graph of category relationships
    """

    def __init__(self, base_selector: AbstractSelector, category_graph: CategoryGraph) -> None:
        self.base_selector = base_selector
        self.category_graph = category_graph

    @property
    def vectors_are_needed(self) -> bool:
        return self.base_selector.vectors_are_needed

    def _ancestor_indices(
        self, categories: list[ObjectWithDistance], base_indices: list[int]
    ) -> dict[int, list[int]]:
        """Selected base index -> indices of its ancestors among the candidates."""
        position = {category.id: index for index, category in enumerate(categories)}
        return {
            index: [
                position[ancestor]
                for ancestor in self.category_graph.get_ancestors(categories[index].id)
                if ancestor in position
            ]
            for index in base_indices
        }

    def select(
        self,
        categories: list[ObjectWithDistance],
        query_vector: torch.Tensor | None = None,
    ) -> list[int]:
        """Select categories and their ancestors in the hierarchy."""
        base_indices = self.base_selector.select(categories, query_vector)
        selected = set(base_indices)
        for ancestors in self._ancestor_indices(categories, base_indices).values():
            selected.update(ancestors)
        return sorted(selected)

    def get_confidences(
        self,
        categories: list[ObjectWithDistance],
        query_vector: torch.Tensor | None = None,
    ) -> list[float]:
        confidences = self.base_selector.get_confidences(categories, query_vector)
        base_indices = self.base_selector.select(categories, query_vector)
        for index, ancestors in self._ancestor_indices(categories, base_indices).items():
            for ancestor in ancestors:
                confidences[ancestor] = max(confidences[ancestor], confidences[index])
        return confidences

    def missing_candidates(
        self,
        categories: list[ObjectWithDistance],
        query_vector: torch.Tensor | None = None,
    ) -> list[str]:
        present = {category.id for category in categories}
        missing: dict[str, None] = {}
        for index in self.base_selector.select(categories, query_vector):
            for ancestor in self.category_graph.get_ancestors(categories[index].id):
                if ancestor not in present:
                    missing[ancestor] = None
        for category_id in self.base_selector.missing_candidates(categories, query_vector):
            missing[category_id] = None
        return list(missing)
