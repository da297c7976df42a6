"""The interface of every vectors adjuster (a plugin's `get_vectors_adjuster()`)."""

from __future__ import annotations

from abc import ABC, abstractmethod

from embedding_studio.embeddings.data.clickstream.improvement_input import ImprovementInput


class VectorsAdjuster(ABC):
    """Moves result vectors according to search feedback: the results a user clicked
    toward the query, the others away from it.

    The improvement worker calls `adjust_vectors` with a batch of sessions' inputs and
    stores every element vector of the returned inputs as that user's personalised copy
    of the object; the originals in the collection are never changed.
    """

    @abstractmethod
    def adjust_vectors(
        self, data_for_improvement: list[ImprovementInput]
    ) -> list[ImprovementInput]:
        """Adjust embedding vectors based on the given improvement data.

        :param data_for_improvement: one input per session, each with its query and its
            clicked and non-clicked elements (vectors `[M, D]`, `M` may vary)
        :return: the inputs, in the same order, with adjusted element vectors of the
            same shapes; implementations should return new tensors rather than change
            the given ones in place
        """
